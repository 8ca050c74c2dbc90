import { Component, type ErrorInfo, type ReactNode } from "react";
import { errorMessage } from "../lib/errors";

interface Props {
  children: ReactNode;
  /** Changing it (e.g. the route) clears a caught error. */
  resetKey?: string;
}

interface State {
  error: unknown;
  resetKey: string | undefined;
}

/** Catches a rendering error and shows it as a message with a way back, never a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.resetKey) return { error: null, resetKey: props.resetKey };
    return null;
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error("console: a screen failed to render", error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="panel error-panel" role="alert">
        <h2>This screen ran into a problem</h2>
        <p>{errorMessage(this.state.error)}</p>
        <div className="actions">
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
          <a className="button secondary" href="/tenants">
            Back to tenants
          </a>
        </div>
      </div>
    );
  }
}
