/** What to do about a refused upload, by its cause; and whether the reading options may help. */
export interface UploadAdvice {
  text: string;
  openReadingOptions: boolean;
}

export function uploadAdvice(codes: readonly string[], fileSize: number): UploadAdvice | null {
  // An empty file is the wrong file, not one read wrong: no option reads rows out of it.
  if (fileSize === 0) return { text: "The file is empty: choose the file that holds the table.", openReadingOptions: false };
  if (codes.includes("bad_encoding")) {
    return { text: "Choose its encoding under Reading options, then upload it again.", openReadingOptions: true };
  }
  if (codes.includes("bad_csv")) {
    return { text: "Choose its separator under Reading options, then upload it again.", openReadingOptions: true };
  }
  if (codes.includes("empty_table")) {
    return {
      text: "No table was found in it: check the separator and whether the first line holds the column names under Reading options, then upload it again.",
      openReadingOptions: true,
    };
  }
  return null;
}
