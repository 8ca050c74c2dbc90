/**
 * The URL the browser PUTs a file to. The disk blob store signs absolute URLs on the control
 * plane's PUBLIC_URL; its own upload route is sent same-origin (relative) so the Vite dev proxy
 * and any reverse proxy in front of the console work. Other URLs (S3 presigned) stay as given.
 */
export function uploadUrlFor(signedUrl: string, pageOrigin: string): string {
  try {
    const url = new URL(signedUrl, pageOrigin);
    if (url.pathname.startsWith("/api/v1/uploads/")) return `${url.pathname}${url.search}`;
    return url.toString();
  } catch {
    return signedUrl;
  }
}

/**
 * PUTs `file` with XMLHttpRequest (fetch reports no upload progress), calling `onProgress` with
 * the fraction sent. Rejects with the server's error message when it refuses the file.
 */
export function putFile(opts: {
  url: string;
  file: Blob;
  headers: Record<string, string>;
  onProgress: (fraction: number) => void;
  signal?: AbortSignal;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", opts.url);
    for (const [name, value] of Object.entries(opts.headers)) {
      // Browsers compute these themselves and refuse to have them set.
      if (!/^(content-length|host)$/i.test(name)) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) opts.onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        opts.onProgress(1);
        resolve();
        return;
      }
      let message = `The upload was refused (HTTP ${xhr.status})`;
      try {
        const body = JSON.parse(xhr.responseText) as { error?: { message?: string } };
        if (body.error?.message) message = body.error.message;
      } catch {
        // Not our JSON (e.g. S3's XML): keep the status.
      }
      reject(new Error(message));
    };
    xhr.onerror = () => reject(new Error("The upload failed: the server could not be reached"));
    xhr.onabort = () => reject(new Error("The upload was cancelled"));
    opts.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(opts.file);
  });
}
