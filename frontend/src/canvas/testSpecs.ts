/** Module specs for the canvas's unit tests: ports by [name, type, optional?], nothing else. */
import type { ModuleSpec } from "../types";

export const spec = (id: string, inputs: [string, string, boolean?][], outputs: [string, string][], requestInput = false): ModuleSpec => ({
  id, version: 1, name: id, category: "x", description: "", help: "", deterministic: true, replaces: [], params: [],
  request_input: requestInput, keywords: [],
  inputs: inputs.map(([name, type, optional]) => ({ name, type, help: "", optional })),
  outputs: outputs.map(([name, type]) => ({ name, type, help: "" })),
});
