import { describe, expect, it } from "vitest";
import { allBut } from "./ColumnPicker";

describe("excluding before anything is chosen", () => {
  it("keeps every other column", () => {
    expect(allBut(["normalized-losses"])).toEqual({ include: "all", exclude: ["normalized-losses"] });
  });

  it("keeps every other column of the kinds the param takes", () => {
    expect(allBut(["price"], ["numeric"])).toEqual({ include: { types: ["numeric"] }, exclude: ["price"] });
  });
});
