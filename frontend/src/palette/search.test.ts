import { describe, expect, it } from "vitest";
import type { ModuleSpec } from "../types";
import { searchModules } from "./search";

const spec = (id: string, name: string, description: string, keywords: string[] = [], category = "Data Transformation") =>
  ({ id, name, description, keywords, category }) as ModuleSpec;

const modules = [
  spec("select_columns", "Select Columns in Dataset", "Keep only the chosen columns of a table.", ["drop column", "remove column"]),
  spec("remove_duplicate_rows", "Remove Duplicate Rows", "Keep one row of each group of rows with equal values.", ["deduplicate"]),
  spec("clean_missing_data", "Clean Missing Data", "Replace or remove missing values.", ["null", "impute"]),
  spec("split_data", "Split Data", "Split the rows of a table in two.", ["filter rows"]),
  spec("apply_sql_transformation", "Apply SQL Transformation", "Transform tables with a SQL query; filter rows with WHERE."),
  spec("join_data", "Join Data", "Join two tables on key columns.", ["merge"]),
  spec("add_columns", "Add Columns", "Put the columns of a second table beside the first one."),
];
const ids = (query: string) => searchModules(modules, query).map((m) => m.id);

describe("searchModules", () => {
  it("finds modules by what they do, in the words people use", () => {
    expect(ids("drop column")[0]).toBe("select_columns");
    expect(ids("remove duplicates")[0]).toBe("remove_duplicate_rows");
    expect(ids("missing values")[0]).toBe("clean_missing_data");
    expect(ids("merge")).toEqual(["join_data"]);
    expect(ids("impute")).toEqual(["clean_missing_data"]);
  });

  it("ranks a title match before a keyword match, and a keyword before the description", () => {
    expect(ids("columns")).toEqual(["add_columns", "select_columns", "join_data"]);
    expect(ids("filter rows")).toEqual(["split_data", "apply_sql_transformation"]);
  });

  it("needs every word somewhere, and finds nothing for an empty query", () => {
    expect(ids("remove banana")).toEqual([]);
    expect(ids("  ")).toEqual([]);
  });
});
