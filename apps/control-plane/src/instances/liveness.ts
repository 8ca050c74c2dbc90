/**
 * Tells a busy instance from a dead one. A running instance that misses health probes stays
 * `running` (it may only be busy: a long embedding batch, a slow disk) until it has missed at
 * least `failures` probes in a row AND its last answered probe was sent at least `timeoutMs`
 * before the latest missed one. Times are when probes were *sent*, so a control plane whose own
 * event loop stalled (sending nothing meanwhile) never counts the stall against an instance;
 * probes whose timeout fired late because of such a stall are not reported here at all (see
 * the runtime's `stalled`).
 */
export interface LivenessPolicy {
  /** Probes missed in a row before an instance can be taken for dead. */
  failures: number;
  /** How long since its last answered probe before an instance can be taken for dead. */
  timeoutMs: number;
}

export interface Verdict {
  dead: boolean;
  /** Probes missed in a row, this one included. */
  missed: number;
  /** From the last answered probe (or the first missed one, if none answered) to this one. */
  silentForMs: number;
}

interface Record_ {
  lastAnsweredAt: number | null;
  firstMissedAt: number | null;
  missed: number;
}

export class Liveness {
  private readonly byTenant = new Map<string, Record_>();

  constructor(private readonly policy: LivenessPolicy) {}

  /** A probe sent at `sentAt` was answered: healthy. */
  answered(tenantId: string, sentAt: number): void {
    this.byTenant.set(tenantId, { lastAnsweredAt: sentAt, firstMissedAt: null, missed: 0 });
  }

  /** A probe sent at `sentAt` went unanswered (or answered unhealthy). */
  missed(tenantId: string, sentAt: number): Verdict {
    const record = this.byTenant.get(tenantId) ?? { lastAnsweredAt: null, firstMissedAt: null, missed: 0 };
    record.missed += 1;
    record.firstMissedAt ??= sentAt;
    this.byTenant.set(tenantId, record);
    const silentForMs = sentAt - (record.lastAnsweredAt ?? record.firstMissedAt);
    return {
      dead: record.missed >= this.policy.failures && silentForMs >= this.policy.timeoutMs,
      missed: record.missed,
      silentForMs,
    };
  }

  /** The instance was stopped or replaced: the next one starts with a clean record. */
  forget(tenantId: string): void {
    this.byTenant.delete(tenantId);
  }
}
