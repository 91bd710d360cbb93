/**
 * The palette's search: modules found by what they do, not only by their title. A query
 * is words; a module matches when every word is in its title, keywords (the other words
 * people use for it: "drop column", "remove duplicates"), description, category or id.
 * Matches are ranked: the title first, then the keywords, then the rest.
 */
import type { ModuleSpec } from "../types";

interface Fields {
  name: string;
  keywords: string[];
  description: string;
  other: string;
}

function fields(spec: ModuleSpec): Fields {
  return {
    name: spec.name.toLowerCase(),
    keywords: spec.keywords.map((k) => k.toLowerCase()),
    description: spec.description.toLowerCase(),
    other: `${spec.category} ${spec.id.replace(/[_.]/g, " ")}`.toLowerCase(),
  };
}

/** A word is in a text as typed, or without a plural's "s" ("duplicates" finds "duplicate"). */
function has(text: string, word: string): boolean {
  return text.includes(word) || (word.length > 3 && word.endsWith("s") && text.includes(word.slice(0, -1)));
}

/** How well a module answers the query: 0 when some word is nowhere in it. */
export function searchScore(spec: ModuleSpec, query: string): number {
  const phrase = query.trim().toLowerCase().replace(/\s+/g, " ");
  const words = phrase.split(" ").filter(Boolean);
  if (!words.length) return 0;
  const f = fields(spec);
  const keywords = f.keywords.join(" | ");
  let score = 0;
  for (const word of words) {
    const inName = has(f.name, word);
    const inKeywords = has(keywords, word);
    if (!inName && !inKeywords && !has(f.description, word) && !has(f.other, word)) return 0;
    score += inName ? 10 : inKeywords ? 6 : has(f.description, word) ? 3 : 1;
  }
  // The whole query as one phrase counts most: in the title, then as a keyword.
  if (f.name.startsWith(phrase)) score += 100;
  else if (f.name.includes(phrase)) score += 80;
  if (f.keywords.includes(phrase)) score += 60;
  else if (f.keywords.some((k) => k.includes(phrase))) score += 40;
  return score;
}

/** The modules that match the query, best first (ties by title). */
export function searchModules(modules: ModuleSpec[], query: string): ModuleSpec[] {
  return modules
    .map((spec) => ({ spec, score: searchScore(spec, query) }))
    .filter(({ score }) => score > 0)
    .sort((a, b) => b.score - a.score || a.spec.name.localeCompare(b.spec.name))
    .map(({ spec }) => spec);
}
