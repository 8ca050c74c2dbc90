import { useEffect, useRef, useState } from "react";
import { errorMessage } from "./errors";

interface Unsubscribable {
  unsubscribe(): void;
}

type Subscribe<T> = (handlers: {
  onData: (value: T) => void;
  onError: (error: unknown) => void;
}) => Unsubscribable;

/**
 * Follows a tRPC subscription while the component is mounted and `key` is unchanged (null key:
 * not subscribed). Returns the latest value and a readable error; tRPC's EventSource link
 * reconnects by itself after a dropped connection.
 */
export function useSubscription<T>(
  key: string | null,
  subscribe: Subscribe<T>,
  onData?: (value: T) => void,
): { data: T | undefined; error: string | null } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const subscribeRef = useRef(subscribe);
  subscribeRef.current = subscribe;
  const onDataRef = useRef(onData);
  onDataRef.current = onData;

  useEffect(() => {
    if (key === null) return;
    setError(null);
    const subscription = subscribeRef.current({
      onData: (value) => {
        setError(null);
        setData(value);
        onDataRef.current?.(value);
      },
      onError: (failure) => setError(errorMessage(failure)),
    });
    return () => subscription.unsubscribe();
  }, [key]);

  return { data, error };
}
