import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { trpc } from "../lib/trpc";
import { Field } from "./field";

/** A collection name input suggesting the instance's collections (when it is running). */
export function CollectionField({
  tenantId,
  value,
  onChange,
  error,
}: {
  tenantId: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
}) {
  const listId = useId();
  const collections = useQuery({
    queryKey: ["dataPlane.collections", tenantId],
    queryFn: () => trpc.dataPlane.collections.query({ tenantId }),
    retry: false,
  });
  return (
    <Field label="Collection" error={error}>
      {(props) => (
        <>
          <input
            {...props}
            name="collection"
            list={listId}
            value={value}
            autoComplete="off"
            onChange={(e) => onChange(e.target.value)}
          />
          <datalist id={listId}>
            {(collections.data ?? []).map((collection) => (
              <option key={collection.name} value={collection.name}>
                {collection.count} records
              </option>
            ))}
          </datalist>
        </>
      )}
    </Field>
  );
}
