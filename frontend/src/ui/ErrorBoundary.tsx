/**
 * Keeps one panel's error in that panel: without a boundary React unmounts the whole app
 * and the user sees a white page. The panel says what failed and offers to try again; the
 * rest of the editor keeps working.
 */
import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** What the panel is, for the message ("The inspector"). */
  what: string;
  children: ReactNode;
}

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    // The console keeps the component stack for a bug report; the page keeps working.
    console.error(`${this.props.what} failed`, error, info.componentStack);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="panel-error" role="alert" aria-label={`${this.props.what} failed`}>
        <p>
          <strong>{this.props.what} stopped working</strong> because of a bug in Atelier ({error.message}). The rest of the
          page still works; your pipeline is saved as you edit.
        </p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
