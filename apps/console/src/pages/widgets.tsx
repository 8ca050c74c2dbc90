import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_COLLECTION } from "@vdb/schemas/instances";
import type { Tenant } from "@vdb/schemas/tenants";
import { CreateWidgetInput, UpdateWidgetInput, type Widget, WidgetTheme } from "@vdb/schemas/widgets";
import { type FormEvent, useState } from "react";
import { useOutletContext } from "react-router";
import { ConfirmDialog } from "../components/confirm-dialog";
import { CopyButton } from "../components/copy-button";
import { EmptyState, ErrorMessage, Notice, QueryView } from "../components/feedback";
import { Field, FormError } from "../components/field";
import { WidgetPreview } from "../components/widget-preview";
import { errorMessage, serverFieldErrors } from "../lib/errors";
import { canWrite, useSession } from "../lib/session";
import { trpc } from "../lib/trpc";
import { type FieldErrors, validate } from "../lib/validate";
import { embedSnippet, parseOrigins } from "../lib/widget-settings";

const DEFAULT_THEME: WidgetTheme = WidgetTheme.parse({});

interface Draft {
  name: string;
  origins: string;
  collection: string;
  enabled: boolean;
  theme: WidgetTheme;
}

function draftOf(widget: Widget | null): Draft {
  if (!widget) {
    return {
      name: "Website chat",
      origins: "",
      collection: DEFAULT_COLLECTION,
      enabled: true,
      theme: DEFAULT_THEME,
    };
  }
  return {
    name: widget.name,
    origins: widget.allowedOrigins.join("\n"),
    collection: widget.collection,
    enabled: widget.enabled,
    theme: widget.theme,
  };
}

export function WidgetsPage() {
  const tenant = useOutletContext<Tenant>();
  const { me } = useSession();
  const widgets = useQuery({
    queryKey: ["widgets.list", tenant.id],
    queryFn: () => trpc.widgets.list.query({ tenantId: tenant.id }),
  });
  const [selectedId, setSelectedId] = useState<string | "new" | null>(null);
  return (
    <QueryView query={widgets} label="Loading widgets…">
      {(list) => {
        const current =
          selectedId === "new" ? null : (list.find((w) => w.id === selectedId) ?? list[0] ?? null);
        const isNew = selectedId === "new" || current === null;
        return (
          <div className="stack">
            <section className="panel" aria-labelledby="widgets-title">
              <div className="panel-header">
                <h2 id="widgets-title">Chat widgets</h2>
                {canWrite(me, tenant.id) ? (
                  <button
                    type="button"
                    className="secondary small-button"
                    onClick={() => setSelectedId("new")}
                  >
                    New widget
                  </button>
                ) : null}
              </div>
              {list.length === 0 ? (
                <EmptyState>
                  No widget yet. Configure the first one below and save it to get its snippet.
                </EmptyState>
              ) : (
                <div className="field inline-field">
                  <label htmlFor="widget-select">Widget</label>
                  <select
                    id="widget-select"
                    value={isNew ? "new" : (current?.id ?? "")}
                    onChange={(e) => setSelectedId(e.target.value)}
                  >
                    {list.map((widget) => (
                      <option key={widget.id} value={widget.id}>
                        {widget.name}
                        {widget.enabled ? "" : " (disabled)"}
                      </option>
                    ))}
                    {isNew ? <option value="new">New widget</option> : null}
                  </select>
                </div>
              )}
            </section>
            <WidgetEditor
              key={isNew ? "new" : current?.id}
              tenantId={tenant.id}
              widget={isNew ? null : current}
              canEdit={canWrite(me, tenant.id)}
              onSaved={(widget) => setSelectedId(widget.id)}
              onDeleted={() => setSelectedId(null)}
            />
          </div>
        );
      }}
    </QueryView>
  );
}

function WidgetEditor({
  tenantId,
  widget,
  canEdit,
  onSaved,
  onDeleted,
}: {
  tenantId: string;
  widget: Widget | null;
  canEdit: boolean;
  onSaved: (widget: Widget) => void;
  onDeleted: () => void;
}) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(widget));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState(false);
  const [isConfirming, setIsConfirming] = useState(false);
  // A different widget remounts this editor (its key), so the draft never needs resetting here.
  const setTheme = (patch: Partial<WidgetTheme>) =>
    setDraft((d) => ({ ...d, theme: { ...d.theme, ...patch } }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["widgets.list", tenantId] });

  const save = useMutation({
    mutationFn: async (): Promise<Widget> => {
      const fields = {
        name: draft.name,
        allowedOrigins: parseOrigins(draft.origins),
        collection: draft.collection.trim(),
        enabled: draft.enabled,
        theme: draft.theme,
      };
      if (widget) {
        const checked = validate(UpdateWidgetInput, { tenantId, widgetId: widget.id, ...fields });
        if (!checked.ok) throw new ValidationFailure(checked.errors);
        return trpc.widgets.update.mutate(checked.data);
      }
      const checked = validate(CreateWidgetInput, { tenantId, ...fields });
      if (!checked.ok) throw new ValidationFailure(checked.errors);
      return trpc.widgets.create.mutate(checked.data);
    },
    onSuccess: async (result) => {
      setErrors({});
      setSaved(true);
      setTimeout(() => setSaved(false), 2500);
      await refresh();
      onSaved(result);
    },
    onError: (error) =>
      setErrors(error instanceof ValidationFailure ? error.errors : serverFieldErrors(error)),
  });
  const remove = useMutation({
    mutationFn: () => trpc.widgets.delete.mutate({ tenantId, widgetId: widget?.id ?? "" }),
    onSuccess: async () => {
      setIsConfirming(false);
      await refresh();
      onDeleted();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const originError = Object.entries(errors).find(([key]) => key.startsWith("allowedOrigins"))?.[1];
  const snippet = widget ? embedSnippet(window.location.origin, widget.id) : null;

  return (
    <div className="grid-2 widget-grid">
      <section className="panel" aria-labelledby="widget-settings-title">
        <h2 id="widget-settings-title">{widget ? `Settings of “${widget.name}”` : "New widget"}</h2>
        {!canEdit ? <Notice>You have read-only access to this tenant.</Notice> : null}
        <form onSubmit={submit} noValidate className="stack">
          <fieldset disabled={!canEdit} className="plain-fieldset stack">
            <Field label="Name" error={errors.name}>
              {(props) => (
                <input
                  {...props}
                  value={draft.name}
                  onChange={(e) => setDraft({ ...draft, name: e.target.value })}
                />
              )}
            </Field>
            <Field
              label="Allowed origins"
              error={originError}
              hint="One per line, e.g. https://www.example.com. The widget only works on these sites."
            >
              {(props) => (
                <textarea
                  {...props}
                  rows={3}
                  value={draft.origins}
                  placeholder="https://www.example.com"
                  onChange={(e) => setDraft({ ...draft, origins: e.target.value })}
                />
              )}
            </Field>
            <div className="form-row">
              <Field label="Collection" error={errors.collection}>
                {(props) => (
                  <input
                    {...props}
                    value={draft.collection}
                    onChange={(e) => setDraft({ ...draft, collection: e.target.value })}
                  />
                )}
              </Field>
              <Field label="Position" error={errors["theme.position"]}>
                {(props) => (
                  <select
                    {...props}
                    value={draft.theme.position}
                    onChange={(e) =>
                      setTheme({
                        position: e.target.value === "bottom-left" ? "bottom-left" : "bottom-right",
                      })
                    }
                  >
                    <option value="bottom-right">Bottom right</option>
                    <option value="bottom-left">Bottom left</option>
                  </select>
                )}
              </Field>
            </div>
            <div className="form-row">
              <Field label="Primary colour" error={errors["theme.primaryColor"]}>
                {(props) => (
                  <input
                    {...props}
                    type="color"
                    value={draft.theme.primaryColor}
                    onChange={(e) => setTheme({ primaryColor: e.target.value })}
                  />
                )}
              </Field>
              <Field label="Text colour" error={errors["theme.textColor"]}>
                {(props) => (
                  <input
                    {...props}
                    type="color"
                    value={draft.theme.textColor}
                    onChange={(e) => setTheme({ textColor: e.target.value })}
                  />
                )}
              </Field>
            </div>
            <Field label="Title" error={errors["theme.title"]}>
              {(props) => (
                <input
                  {...props}
                  value={draft.theme.title}
                  onChange={(e) => setTheme({ title: e.target.value })}
                />
              )}
            </Field>
            <Field label="Greeting" error={errors["theme.greeting"]}>
              {(props) => (
                <textarea
                  {...props}
                  rows={2}
                  value={draft.theme.greeting}
                  onChange={(e) => setTheme({ greeting: e.target.value })}
                />
              )}
            </Field>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={draft.enabled}
                onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
              />
              Enabled (a disabled widget stays on the page but answers nothing)
            </label>
          </fieldset>
          {canEdit ? (
            <div className="actions">
              <button type="submit" disabled={save.isPending}>
                {save.isPending ? "Saving…" : widget ? "Save changes" : "Create widget"}
              </button>
              {saved ? (
                <span className="saved" role="status">
                  Saved
                </span>
              ) : null}
              {widget ? (
                <button type="button" className="danger-ghost" onClick={() => setIsConfirming(true)}>
                  Delete widget
                </button>
              ) : null}
            </div>
          ) : null}
          <FormError
            message={
              save.error && !(save.error instanceof ValidationFailure) && Object.keys(errors).length === 0
                ? errorMessage(save.error)
                : errors.form
            }
          />
        </form>
        <ConfirmDialog
          open={isConfirming}
          title="Delete this widget?"
          confirmLabel="Delete widget"
          isBusy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => setIsConfirming(false)}
        >
          <p>Sites that embed it stop showing the chat, and its visitors' conversations are deleted.</p>
          {remove.error ? <ErrorMessage error={remove.error} /> : null}
        </ConfirmDialog>
      </section>
      <div className="stack">
        <section className="panel" aria-labelledby="snippet-title">
          <h2 id="snippet-title">Embed snippet</h2>
          {snippet ? (
            <>
              <p className="muted small">Paste it before &lt;/body&gt; on every allowed site.</p>
              <pre className="snippet" data-testid="widget-snippet">
                {snippet}
              </pre>
              <CopyButton text={snippet} label="Copy snippet" />
            </>
          ) : (
            <p className="muted">Save the widget to get its snippet.</p>
          )}
        </section>
        <section className="panel" aria-labelledby="preview-title">
          <h2 id="preview-title">Live preview</h2>
          <WidgetPreview theme={draft.theme} />
        </section>
      </div>
    </div>
  );
}

class ValidationFailure extends Error {
  constructor(readonly errors: FieldErrors) {
    super("Some fields need attention");
  }
}
