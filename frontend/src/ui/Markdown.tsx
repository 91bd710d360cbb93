/**
 * A module's help, written in Markdown, shown as formatted text. Raw HTML in it is not
 * rendered (react-markdown's default): a module pack's help is not trusted. Links open in
 * a new tab so the pipeline stays open.
 */
import ReactMarkdown, { type Components } from "react-markdown";

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
};

export function Markdown({ text, label }: { text: string; label?: string }) {
  return (
    <div className="markdown" aria-label={label}>
      <ReactMarkdown components={components}>{text}</ReactMarkdown>
    </div>
  );
}
