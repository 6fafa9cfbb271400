// Types for scripts/chromium.mjs (plain JavaScript, shared by the README examples script and the tests).

export declare const CHROMIUM_FLAGS: string[];
export declare function findChromium(): string | null;

export interface Browser {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<any>;
  onEvent(listener: (message: { method: string; params: any; sessionId?: string }) => void): () => void;
  close(): Promise<void>;
}

export interface PageInspection {
  url: string;
  targetId: string;
  title: string;
  /** document.body.innerText after load. */
  text: string;
  /** The screenshot, when asked for. */
  png: Buffer | null;
  /** Evaluates an expression in the page (while its tab is open) and returns the value. */
  evaluate(expression: string): Promise<any>;
  consoleErrors: string[];
  exceptions: string[];
  cspViolations: string[];
  /** URLs of every network request the page made (the file itself included). */
  requests: string[];
  failedRequests: string[];
  logErrors: string[];
}

export interface InspectOptions {
  /** Viewport width in CSS pixels (default 1100). */
  width?: number;
  screenshot?: boolean;
  /** CSS selector: the screenshot ends below this element instead of at the page's end. */
  clipTo?: string;
}

export declare function launchChromium(executable?: string | null): Promise<Browser>;
export declare function inspectPage(browser: Browser, file: string, options?: InspectOptions): Promise<PageInspection>;
export declare function withPage<T>(
  browser: Browser,
  file: string,
  options: InspectOptions,
  use: (page: PageInspection) => Promise<T>,
): Promise<T>;
