import { api } from "../api";

/** PNG images a step wrote (e.g. the matplotlib figures of Execute Python Script), each
 * with its own download link. */
export function Images({ runId, node, names }: { runId: string; node: string; names: string[] }) {
  if (!names.length) return <p className="outputs-note">The step wrote no images.</p>;
  return (
    <div className="outputs-images">
      {names.map((name) => {
        const url = api.runs.imageUrl(runId, node, name);
        return (
          <figure key={name} className="outputs-figure">
            <img src={url} alt={`Image ${name} written by ${node}`} loading="lazy" />
            <figcaption>
              {name}{" "}
              <a className="outputs-button" href={url} download={name} aria-label={`Download image ${name}`}>
                Download
              </a>
            </figcaption>
          </figure>
        );
      })}
    </div>
  );
}
