import { describe, expect, it } from "vitest";
import { uploadAdvice } from "./uploadAdvice";

describe("uploadAdvice", () => {
  it("says an empty file is the wrong file, without pointing at the reading options", () => {
    expect(uploadAdvice(["empty_table"], 0)).toEqual({
      text: "The file is empty: choose the file that holds the table.",
      openReadingOptions: false,
    });
  });

  it("points at the option that may fix a file read wrong", () => {
    expect(uploadAdvice(["bad_encoding"], 10)?.text).toMatch(/^Choose its encoding/);
    expect(uploadAdvice(["bad_csv"], 10)?.text).toMatch(/^Choose its separator/);
    expect(uploadAdvice(["empty_table"], 10)?.openReadingOptions).toBe(true);
  });

  it("has no advice for refusals reading cannot fix", () => {
    expect(uploadAdvice(["too_large"], 10)).toBeNull();
  });
});
