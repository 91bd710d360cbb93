import { describe, expect, it } from "vitest";
import type { ModuleSpec, ParamSpec } from "../types";
import { boundParameter, paramApplies, parseNumber, rangeProblem } from "./ParamField";
import { parseScalar } from "./Inspector";
import { inputForParam } from "./upstreamColumns";

const fraction: ParamSpec = { name: "fraction", label: "Fraction", type: "float", required: false, help: "", default: 0.5, min: 0, max: 1 };

describe("param fields", () => {
  it("reads numbers, keeps expressions and mistakes as text for the validation to name", () => {
    expect(parseNumber("0.7", false)).toBe(0.7);
    expect(parseNumber("", false)).toBeUndefined();
    expect(parseNumber("${{parameters.train_fraction}}", false)).toBe("${{parameters.train_fraction}}");
    expect(parseNumber("3", true)).toBe(3);
    expect(parseNumber("3.5", true)).toBe("3.5");
  });

  it("says when a number is out of its range", () => {
    expect(rangeProblem(fraction, 0.7)).toBeNull();
    expect(rangeProblem(fraction, 1.5)).toBe("At most 1.");
    expect(rangeProblem(fraction, -1)).toBe("At least 0.");
    expect(rangeProblem(fraction, "${{parameters.x}}")).toBeNull();
  });

  it("types pipeline parameter values", () => {
    expect(parseScalar("0.7")).toBe(0.7);
    expect(parseScalar("true")).toBe(true);
    expect(parseScalar("price")).toBe("price");
  });

  it("picks columns from the input a param names", () => {
    const port = (name: string) => ({ name, type: "DataFrame", help: "" });
    const join = { inputs: [port("left"), port("right")] } as ModuleSpec;
    const columns = (name: string): ParamSpec => ({ name, label: name, type: "columns", required: true, help: "", default: null, kinds: [], multiple: true });
    expect(inputForParam(join, columns("right_keys"))).toBe("right");
    expect(inputForParam(join, columns("left_keys"))).toBe("left");
    const train = { inputs: [{ name: "model", type: "UntrainedModel", help: "" }, port("dataset")] } as ModuleSpec;
    expect(inputForParam(train, columns("label_column"))).toBe("dataset");
  });
});

describe("what the inspector shows", () => {
  const source: ParamSpec = { name: "source", label: "Source", type: "choice", required: false, help: "", default: "sample", choices: ["sample", "url"] };
  const url: ParamSpec = { name: "url", label: "Url", type: "string", required: false, help: "", default: "", when: { source: ["url"] } };

  it("shows a param only when it applies, reading an unset param as its default", () => {
    expect(paramApplies(url, {}, [source, url])).toBe(false);
    expect(paramApplies(url, { source: "url" }, [source, url])).toBe(true);
    expect(paramApplies(source, {}, [source, url])).toBe(true);
  });

  it("tells a value bound to a pipeline parameter from one that merely mentions it", () => {
    expect(boundParameter("${{parameters.train_fraction}}")).toBe("train_fraction");
    expect(boundParameter(" ${{ parameters.seed }} ")).toBe("seed");
    expect(boundParameter("x ${{parameters.seed}}")).toBeNull();
    expect(boundParameter(0.7)).toBeNull();
  });
});
