/** CodeMirror with Python or SQL highlighting; loaded only when a code param is shown. */
import { python } from "@codemirror/lang-python";
import { sql } from "@codemirror/lang-sql";
import CodeMirror from "@uiw/react-codemirror";

export default function CodeEditor({
  value,
  language,
  label,
  onChange,
  readOnly,
  height = "220px",
}: {
  value: string;
  language: string;
  label: string;
  onChange(value: string): void;
  readOnly?: boolean;
  height?: string;
}) {
  const extensions = language === "python" ? [python()] : language === "sql" ? [sql()] : [];
  return (
    <CodeMirror
      value={value}
      height={height}
      extensions={extensions}
      onChange={onChange}
      readOnly={readOnly}
      basicSetup={{ lineNumbers: true, foldGutter: false, highlightActiveLine: true }}
      aria-label={label}
      // Tab indents inside the editor; Escape then Tab leaves it (CodeMirror's own rule).
      indentWithTab
    />
  );
}
