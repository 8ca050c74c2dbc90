import type { VdbOutputs } from "../../index";
import { type Command, TENANT_OPTION } from "../command";
import { UsageError } from "../errors";
import { follow } from "../follow";
import { stringValue } from "../option-values";
import { RecordProgress } from "../progress";
import { formatTable } from "../table";

type Backup = VdbOutputs["backups"]["get"];
type Restore = VdbOutputs["backups"]["getRestore"];

function sizeOf(bytes: number | null): string {
  if (bytes === null) return "-";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

function backupArgument(args: string[]): string {
  const id = args[0];
  if (!id) throw new UsageError("name the backup: its id (bkp_…), from `vdb backups list`");
  return id;
}

export const backupsCreate: Command = {
  path: ["backups", "create"],
  usage: "--tenant <slug|id> [--no-wait]",
  summary: "Back up a tenant (records, documents, chunks) and wait, with a progress bar",
  options: {
    tenant: TENANT_OPTION,
    "no-wait": { type: "boolean", description: "Return once it has started" },
  },
  examples: ["vdb backups create --tenant acme"],
  prefers: "apiKey",
  async run({ values, session }) {
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const started = await session.client.backups.create.mutate({ tenantId: tenant.id });
    if (values["no-wait"] === true) {
      session.print(started, () => `Backup ${started.id} of ${tenant.label} started.`);
      return 0;
    }
    const progress = new RecordProgress(session.streams.stderr, `backup of ${tenant.label}`);
    const ref = { tenantId: tenant.id, backupId: started.id };
    const finished = await follow<Backup>({
      subscribe: (handlers) => session.live.backups.onProgress.subscribe(ref, handlers),
      poll: () => session.client.backups.get.query(ref),
      isDone: (backup) => backup.status !== "running",
      onValue: (backup) => {
        if (backup.progress) progress.update(backup.progress.done, backup.progress.total);
      },
    }).finally(() => progress.stop());
    session.print(finished, () =>
      finished.status === "completed"
        ? `Backup ${finished.id} completed: ${finished.counts.records} records in ${finished.counts.collections} collections, ${finished.counts.documents} documents, ${sizeOf(finished.sizeBytes)}.`
        : `Backup ${finished.id} failed: ${finished.failureReason ?? "unknown reason"}`,
    );
    return finished.status === "completed" ? 0 : 1;
  },
};

export const backupsList: Command = {
  path: ["backups", "list"],
  usage: "--tenant <slug|id>",
  summary: "List a tenant's backups: time, size, record counts, status",
  options: { tenant: TENANT_OPTION },
  prefers: "apiKey",
  async run({ values, session }) {
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const backups: Backup[] = [];
    let cursor: string | undefined;
    do {
      const page = await session.client.backups.list.query({
        tenantId: tenant.id,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      backups.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    session.print(backups, () =>
      backups.length === 0
        ? `No backups of ${tenant.label}.`
        : formatTable(
            ["ID", "CREATED", "STATUS", "SIZE", "RECORDS", "DOCUMENTS", "SOURCE"],
            backups.map((backup) => [
              backup.id,
              backup.createdAt.slice(0, 19).replace("T", " "),
              backup.status,
              sizeOf(backup.sizeBytes),
              String(backup.counts.records),
              String(backup.counts.documents),
              backup.source,
            ]),
          ),
    );
    return 0;
  },
};

export const backupsRestore: Command = {
  path: ["backups", "restore"],
  usage: "<backup id> --tenant <slug|id> [--into <slug|id>]",
  summary: "Restore a backup into its tenant (replacing its data) or another one, with a progress bar",
  options: {
    tenant: TENANT_OPTION,
    into: { type: "string", value: "<slug|id>", description: "Restore into this tenant instead" },
  },
  maxArguments: 1,
  examples: [
    "vdb backups restore bkp_… --tenant acme",
    "vdb backups restore bkp_… --tenant acme --into acme-copy",
  ],
  prefers: "apiKey",
  async run({ args, values, session }) {
    const backupId = backupArgument(args);
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const into = stringValue(values, "into");
    const target = into ? await session.resolveTenant(into) : tenant;
    const started = await session.client.backups.restore.mutate({
      tenantId: tenant.id,
      backupId,
      ...(target.id !== tenant.id ? { targetTenantId: target.id } : {}),
    });
    const progress = new RecordProgress(session.streams.stderr, `restore into ${target.label}`);
    const ref = { tenantId: target.id, restoreId: started.id };
    const finished = await follow<Restore>({
      subscribe: (handlers) => session.live.backups.onRestoreProgress.subscribe(ref, handlers),
      poll: () => session.client.backups.getRestore.query(ref),
      isDone: (restore) => restore.status !== "queued" && restore.status !== "running",
      onValue: (restore) => progress.update(restore.progress.done, restore.progress.total),
    }).finally(() => progress.stop());
    session.print(finished, () =>
      finished.status === "succeeded"
        ? `Restored ${finished.progress.done} records of ${backupId} into ${target.label}.`
        : `The restore failed: ${finished.lastError ?? finished.status}`,
    );
    return finished.status === "succeeded" ? 0 : 1;
  },
};
