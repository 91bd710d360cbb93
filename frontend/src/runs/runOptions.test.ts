import { describe, expect, it } from "vitest";
import type { PipelineDocument } from "../types";
import { lastUsedOptions } from "./runOptions";

const document: PipelineDocument = {
  format: "atelier/pipeline@1",
  name: "cars",
  settings: { default_compute: "docker" },
  parameters: {
    train_fraction: { type: "float", default: 0.7 },
    seed: { type: "int", default: 1 },
    note: { type: "string" },
  },
  nodes: {},
};

describe("the options Run uses without asking", () => {
  it("are the pipeline's defaults before its first run", () => {
    expect(lastUsedOptions(document, null)).toEqual({
      compute: "docker",
      parameters: { train_fraction: 0.7, seed: 1 },
      force_rerun: false,
    });
  });

  it("are the last run's, for the parameters the pipeline still has", () => {
    const last = { compute: "local", parameters: { train_fraction: 0.8, removed: 3 } };
    expect(lastUsedOptions(document, last)).toEqual({
      compute: "local",
      parameters: { train_fraction: 0.8, seed: 1 },
      force_rerun: false,
    });
  });

  it("fall back on local compute when the pipeline names none", () => {
    expect(lastUsedOptions({ ...document, settings: undefined, parameters: {} }, null).compute).toBe("local");
  });
});
