import { useEffect, useState } from "react";
import { api, ApiError } from "./api";
import { EditorPage } from "./canvas/Editor";
import { useEditor } from "./canvas/store";
import { Home } from "./home/Home";
import { ExperimentPage } from "./jobs/ExperimentPage";
import { JobPage } from "./jobs/JobPage";
import { JobsPage } from "./jobs/JobsPage";
import { RunPage } from "./runs/RunPage";
import type { ModuleSpec } from "./types";
import { useRoute } from "./ui/router";
import { Toasts } from "./ui/Toasts";

export function App() {
  const route = useRoute();
  const [modules, setModules] = useState<ModuleSpec[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.modules().then(
      (specs) => {
        useEditor.getState().setSpecs(specs);
        setModules(specs);
      },
      (e: ApiError) => setError(e.message),
    );
  }, []);

  let page;
  if (error) page = <p role="alert" className="page-message">Atelier could not load its modules: {error}</p>;
  else if (!modules) page = <p className="page-message">Loading…</p>;
  else if (route.page === "pipeline") page = <EditorPage key={route.id} pipelineId={route.id} modules={modules} />;
  else if (route.page === "run") page = <RunPage key={route.id} runId={route.id} />;
  else if (route.page === "jobs") page = <JobsPage />;
  else if (route.page === "job") page = <JobPage key={route.id} jobId={route.id} />;
  else if (route.page === "experiment") page = <ExperimentPage key={route.name} name={route.name} />;
  else page = <Home modules={modules} />;

  return (
    <>
      {page}
      <Toasts />
    </>
  );
}
