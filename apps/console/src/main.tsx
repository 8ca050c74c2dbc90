import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app";
import { ErrorBoundary } from "./components/error-boundary";
import { errorCode } from "./lib/errors";
import { SessionProvider } from "./lib/session";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Retrying a refusal (403, 404, bad input) only delays the message a person needs to see.
      retry: (failures, error) => {
        const code = errorCode(error);
        if (code && code !== "SERVICE_UNAVAILABLE" && code !== "INTERNAL") return false;
        return failures < 2;
      },
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <SessionProvider>
            <App />
          </SessionProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </ErrorBoundary>
  </StrictMode>,
);
