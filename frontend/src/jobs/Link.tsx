import type { ReactNode } from "react";
import { navigate } from "../ui/router";

/** A link to a page of the app, followed without reloading it. */
export function Link({ href, children }: { href: string; children: ReactNode }) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return; // a new tab or window, as the browser does it
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
