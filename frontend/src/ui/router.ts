/** The client routes (the server serves the same page for each): home, a pipeline, a run. */
import { useEffect, useState } from "react";

export type Route = { page: "home" } | { page: "pipeline"; id: number } | { page: "run"; id: string };

export function parseRoute(pathname: string): Route {
  const pipeline = pathname.match(/^\/pipelines\/(\d+)\/?$/);
  if (pipeline) return { page: "pipeline", id: Number(pipeline[1]) };
  const run = pathname.match(/^\/runs\/([0-9a-f-]{36})\/?$/i);
  if (run) return { page: "run", id: run[1] };
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
