import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Collection, StoredRecord } from "@vdb/schemas/instances";
import type { Tenant } from "@vdb/schemas/tenants";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { EmptyState, ErrorMessage, QueryView } from "../components/feedback";
import { Field } from "../components/field";
import { MetadataFilter } from "../components/metadata-filter";
import { Pager, useCursorPages } from "../components/pager";
import { TableHead } from "../components/table-head";
import { TableScroll } from "../components/table-scroll";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { buildWhere, type Combinator, type Condition, type Where } from "../lib/where-builder";

const PAGE_SIZE = 20;

/**
 * What the tenant's instance holds, however it was written (documents, `/embed`, the Chroma
 * gateway): its collections with their counts, which of them are named databases, and a record
 * browser (ids, metadata filter, pages, delete).
 */
export function DataPage() {
  const tenant = useOutletContext<Tenant>();
  const [selected, setSelected] = useState<string | null>(null);
  const collections = useQuery({
    queryKey: ["dataPlane.collections", tenant.id],
    queryFn: () => trpc.dataPlane.collections.query({ tenantId: tenant.id }),
    retry: false,
  });
  const databases = useQuery({
    queryKey: ["databases.list", tenant.id],
    queryFn: () => trpc.databases.list.query({ tenantId: tenant.id }),
  });
  const databaseOf = new Map((databases.data ?? []).map((database) => [database.name, database]));
  return (
    <div className="stack">
      <section className="panel" aria-labelledby="collections-title">
        <h2 id="collections-title">Collections</h2>
        <QueryView query={collections} label="Loading collections…">
          {(list) =>
            list.length === 0 ? (
              <EmptyState>No collections yet: upload a document or write records with the API.</EmptyState>
            ) : (
              <TableScroll label="Collections table">
                <table>
                  <TableHead
                    columns={["Collection", "Records", "Model", "Named database", { hidden: "Actions" }]}
                  />
                  <tbody>
                    {list.map((collection) => (
                      <CollectionRow
                        key={collection.name}
                        collection={collection}
                        databaseId={databaseOf.get(collection.name)?.id}
                        isSelected={collection.name === selected}
                        onBrowse={() => setSelected(collection.name)}
                      />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            )
          }
        </QueryView>
      </section>
      {selected ? <RecordBrowser key={selected} tenantId={tenant.id} collection={selected} /> : null}
    </div>
  );
}

function CollectionRow({
  collection,
  databaseId,
  isSelected,
  onBrowse,
}: {
  collection: Collection;
  databaseId: string | undefined;
  isSelected: boolean;
  onBrowse: () => void;
}) {
  return (
    <tr data-collection={collection.name} aria-current={isSelected ? "true" : undefined}>
      <td>
        <code>{collection.name}</code>
      </td>
      <td>{collection.count.toLocaleString("en")}</td>
      <td>
        {collection.dimension > 0 ? (
          <>
            {collection.model} <span className="muted small">({collection.dimension}-d)</span>
          </>
        ) : (
          // Created through the Chroma API: its writer embeds, VDB recorded no model.
          <span className="muted">chosen by its writer</span>
        )}
      </td>
      <td>{databaseId ? <code className="id">{databaseId}</code> : <span className="muted">—</span>}</td>
      <td className="row-actions">
        <button
          type="button"
          className="secondary small-button"
          onClick={onBrowse}
          aria-label={`Browse ${collection.name}`}
        >
          Browse
        </button>
      </td>
    </tr>
  );
}

interface RecordFilter {
  ids: string[] | undefined;
  where: Where | undefined;
}

function RecordBrowser({ tenantId, collection }: { tenantId: string; collection: string }) {
  const queryClient = useQueryClient();
  const { me } = useSession();
  const [idsText, setIdsText] = useState("");
  const [conditions, setConditions] = useState<Condition[]>([]);
  const [combinator, setCombinator] = useState<Combinator>("$and");
  const [conditionErrors, setConditionErrors] = useState<Record<number, string>>({});
  const [applied, setApplied] = useState<RecordFilter>({ ids: undefined, where: undefined });
  const [chosen, setChosen] = useState<string[]>([]);
  const [isConfirming, setIsConfirming] = useState(false);
  // Offsets as the pager's cursors: Chroma pages by offset.
  const pages = useCursorPages(JSON.stringify(applied));
  const offset = Number(pages.cursor ?? 0);
  const records = useQuery({
    queryKey: ["dataPlane.records", tenantId, collection, applied, offset],
    queryFn: () =>
      trpc.dataPlane.records.query({
        tenantId,
        request: {
          collection,
          limit: PAGE_SIZE,
          offset,
          ...(applied.ids ? { ids: applied.ids } : {}),
          ...(applied.where ? { where: applied.where } : {}),
        },
      }),
    placeholderData: keepPreviousData,
    retry: false,
  });
  const remove = useMutation({
    mutationFn: (ids: string[]) =>
      trpc.dataPlane.deleteRecords.mutate({ tenantId, request: { collection, ids } }),
    onSuccess: async () => {
      setIsConfirming(false);
      setChosen([]);
      await queryClient.invalidateQueries({ queryKey: ["dataPlane.records", tenantId, collection] });
      await queryClient.invalidateQueries({ queryKey: ["dataPlane.collections", tenantId] });
    },
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const built = buildWhere(conditions, combinator);
    if (!built.ok) return setConditionErrors(built.errors);
    setConditionErrors({});
    const ids = idsText
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter(Boolean);
    setChosen([]);
    setApplied({ ids: ids.length > 0 ? ids : undefined, where: built.where });
  };
  const mayDelete = canWrite(me, tenantId);
  const toggle = (id: string, on: boolean) =>
    setChosen((current) => (on ? [...current, id] : current.filter((other) => other !== id)));
  return (
    <section className="panel" aria-labelledby="records-title">
      <h2 id="records-title">
        Records in <code>{collection}</code>
      </h2>
      <form onSubmit={apply} noValidate className="stack">
        <Field label="Record ids" hint="Comma- or space-separated; empty: every record.">
          {(props) => (
            <input
              {...props}
              name="ids"
              value={idsText}
              autoComplete="off"
              onChange={(e) => setIdsText(e.target.value)}
            />
          )}
        </Field>
        <MetadataFilter
          conditions={conditions}
          onConditionsChange={setConditions}
          combinator={combinator}
          onCombinatorChange={setCombinator}
          conditionErrors={conditionErrors}
          error={undefined}
        />
        <div className="form-actions">
          <button type="submit">Show records</button>
        </div>
      </form>
      <QueryView query={records} label="Loading records…">
        {(page) => (
          <>
            <p className="muted small" role="status">
              {page.records.length === 0
                ? "No records match."
                : `Records ${offset + 1}–${offset + page.records.length}${
                    applied.ids || applied.where ? " matching" : ""
                  } · ${page.count.toLocaleString("en")} in the collection`}
            </p>
            {page.records.length > 0 ? (
              <TableScroll label="Records table">
                <table>
                  <TableHead columns={[mayDelete && { hidden: "Select" }, "Id", "Text", "Metadata"]} />
                  <tbody>
                    {page.records.map((record) => (
                      <RecordRow
                        key={record.id}
                        record={record}
                        isSelectable={mayDelete}
                        isChosen={chosen.includes(record.id)}
                        onToggle={(on) => toggle(record.id, on)}
                      />
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            ) : (
              <EmptyState>Nothing here with this filter.</EmptyState>
            )}
            <Pager
              label="Records"
              pages={pages}
              nextCursor={page.records.length === PAGE_SIZE ? String(offset + PAGE_SIZE) : null}
            />
          </>
        )}
      </QueryView>
      {mayDelete ? (
        <div className="actions">
          <button
            type="button"
            className="danger-ghost small-button"
            disabled={chosen.length === 0}
            onClick={() => setIsConfirming(true)}
          >
            Delete selected ({chosen.length})
          </button>
        </div>
      ) : null}
      <ConfirmDialog
        open={isConfirming}
        title={`Delete ${chosen.length} record${chosen.length === 1 ? "" : "s"}?`}
        confirmLabel="Delete records"
        isBusy={remove.isPending}
        onConfirm={() => remove.mutate(chosen)}
        onCancel={() => setIsConfirming(false)}
      >
        <p>
          They are removed from <code>{collection}</code> and from search at once. A record that came from an
          uploaded document comes back if the document is ingested again.
        </p>
        {remove.error ? <ErrorMessage error={remove.error} /> : null}
      </ConfirmDialog>
    </section>
  );
}

function RecordRow({
  record,
  isSelectable,
  isChosen,
  onToggle,
}: {
  record: StoredRecord;
  isSelectable: boolean;
  isChosen: boolean;
  onToggle: (on: boolean) => void;
}) {
  return (
    <tr data-record-id={record.id}>
      {isSelectable ? (
        <td>
          <input
            type="checkbox"
            aria-label={`Select record ${record.id}`}
            checked={isChosen}
            onChange={(e) => onToggle(e.target.checked)}
          />
        </td>
      ) : null}
      <td>
        <code>{record.id}</code>
      </td>
      <td className="record-text">{record.document ?? <span className="muted">—</span>}</td>
      <td>
        {record.metadata && Object.keys(record.metadata).length > 0 ? (
          <code className="small">{JSON.stringify(record.metadata)}</code>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
