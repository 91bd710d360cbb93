/** The client routes (the server serves the same page for each): home, a pipeline, a run,
 * jobs and experiments, a job, an experiment. */
import { useEffect, useState } from "react";

export type Route =
  | { page: "home" }
  | { page: "pipeline"; id: number }
  | { page: "run"; id: string }
  | { page: "jobs" }
  | { page: "job"; id: string }
  | { page: "experiment"; name: string };

export function parseRoute(pathname: string): Route {
  const pipeline = pathname.match(/^\/pipelines\/(\d+)\/?$/);
  if (pipeline) return { page: "pipeline", id: Number(pipeline[1]) };
  const run = pathname.match(/^\/runs\/([0-9a-f-]{36})\/?$/i);
  if (run) return { page: "run", id: run[1] };
  if (/^\/(jobs|experiments)\/?$/.test(pathname)) return { page: "jobs" };
  const job = pathname.match(/^\/jobs\/([0-9a-f-]{36})\/?$/i);
  if (job) return { page: "job", id: job[1] };
  const experiment = pathname.match(/^\/experiments\/([^/]+)\/?$/);
  if (experiment) return { page: "experiment", name: decodeURIComponent(experiment[1]) };
  return { page: "home" };
}

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}
