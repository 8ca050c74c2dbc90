/** Where the console keeps its session token: this browser's localStorage, one key. */
const STORAGE_KEY = "vdb.session";

export function readToken(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the session lives as long as the page.
  }
}
