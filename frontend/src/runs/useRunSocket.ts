/**
 * Follows a run over /ws/runs/<id>/: a snapshot first, then sequence-numbered events. A
 * dropped connection reconnects with `?after=<last seq>` and gets exactly what it missed.
 * As steps finish, the run's REST detail is refetched for their outputs.
 */
import { useEffect } from "react";
import { api, runSocketUrl } from "../api";
import { FINISHED_STEP_STATUSES, TERMINAL_RUN_STATUSES } from "../types";
import { parseRunMessage } from "./runState";
import { useRunView } from "./runStore";

export function useRunSocket(runId: string | null) {
  useEffect(() => {
    if (!runId) return;
    let socket: WebSocket | null = null;
    let stopped = false;
    let attempt = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let refetch: ReturnType<typeof setTimeout> | undefined;
    let everConnected = false;

    const isOver = () => {
      const run = useRunView.getState().run;
      return !!run && run.id === runId && TERMINAL_RUN_STATUSES.includes(run.status);
    };
    const refreshDetail = () => {
      clearTimeout(refetch);
      refetch = setTimeout(() => {
        api.runs.get(runId).then((detail) => useRunView.getState().refresh(detail), () => undefined);
      }, 250);
    };

    const open = () => {
      const seq = useRunView.getState().run?.seq ?? 0;
      socket = new WebSocket(runSocketUrl(runId, everConnected && seq > 0 ? seq : undefined));
      socket.onopen = () => {
        everConnected = true;
        attempt = 0;
      };
      socket.onmessage = (event) => {
        const message = parseRunMessage(String(event.data));
        if (!message) return;
        useRunView.getState().apply(message);
        if (
          message.type === "snapshot" ||
          (message.type === "step_status" && FINISHED_STEP_STATUSES.includes(message.status)) ||
          message.type === "run_status"
        ) {
          refreshDetail();
        }
        // A finished run sends nothing more.
        if (isOver()) socket?.close();
      };
      socket.onclose = () => {
        if (stopped || isOver()) return;
        attempt += 1;
        retry = setTimeout(open, Math.min(500 * 2 ** attempt, 10_000));
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(refetch);
      socket?.close();
    };
  }, [runId]);
}
