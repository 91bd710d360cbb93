import { useEffect, useState } from "react";

export interface RequestState<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/**
 * The result of `load()`, fetched again whenever `key` changes. The previous data stays
 * shown while the next arrives (a table keeps its rows while the next page loads), and an
 * answer that arrives after the key has changed again is dropped, so a slow page never
 * overwrites a newer one.
 */
export function useRequest<T>(load: () => Promise<T>, key: string): RequestState<T> {
  const [state, setState] = useState<RequestState<T>>({ data: null, error: null, loading: true });
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, error: null, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        current && setState((previous) => ({ ...previous, error: error instanceof Error ? error.message : String(error), loading: false })),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure on every render; `key` names everything it depends on.
  }, [key]);
  return state;
}
