import { useId } from "react";
import {
  buildWhere,
  type Combinator,
  type Condition,
  emptyCondition,
  OPERATOR_LABELS,
  OPERATORS,
  type Operator,
  type ValueType,
} from "../lib/where-builder";

/**
 * The metadata filter builder (rows of `field operator value`, all or any), shared by the search
 * playground and the record browser; the caller turns the rows into `where` with `buildWhere`.
 */
export function MetadataFilter({
  conditions,
  onConditionsChange,
  combinator,
  onCombinatorChange,
  conditionErrors,
  error,
}: {
  conditions: Condition[];
  onConditionsChange: (conditions: Condition[]) => void;
  combinator: Combinator;
  onCombinatorChange: (combinator: Combinator) => void;
  conditionErrors: Record<number, string>;
  error: string | undefined;
}) {
  const combinatorId = useId();
  const built = buildWhere(conditions, combinator);
  return (
    <fieldset className="filter-builder">
      <legend>Metadata filter</legend>
      {conditions.length > 1 ? (
        <div className="field inline-field">
          <label htmlFor={combinatorId}>Match</label>
          <select
            id={combinatorId}
            value={combinator}
            onChange={(e) => onCombinatorChange(e.target.value === "$or" ? "$or" : "$and")}
          >
            <option value="$and">all conditions</option>
            <option value="$or">any condition</option>
          </select>
        </div>
      ) : null}
      {conditions.length === 0 ? <p className="muted small">No filter: every record may match.</p> : null}
      {conditions.map((condition, index) => (
        <ConditionRow
          key={index}
          index={index}
          condition={condition}
          error={conditionErrors[index]}
          onChange={(patch) =>
            onConditionsChange(conditions.map((c, i) => (i === index ? { ...c, ...patch } : c)))
          }
          onRemove={() => onConditionsChange(conditions.filter((_, i) => i !== index))}
        />
      ))}
      <div className="actions">
        <button
          type="button"
          className="secondary small-button"
          onClick={() => onConditionsChange([...conditions, emptyCondition()])}
        >
          Add condition
        </button>
      </div>
      {built.ok && built.where ? (
        <details className="where-preview">
          <summary>Filter as JSON</summary>
          <pre>{JSON.stringify(built.where, null, 2)}</pre>
        </details>
      ) : null}
      {error ? <p className="field-error">{error}</p> : null}
    </fieldset>
  );
}

function ConditionRow({
  index,
  condition,
  error,
  onChange,
  onRemove,
}: {
  index: number;
  condition: Condition;
  error: string | undefined;
  onChange: (patch: Partial<Condition>) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const isList = condition.operator === "$in" || condition.operator === "$nin";
  return (
    <div className={`condition${error ? " has-error" : ""}`}>
      <input
        aria-label={`Condition ${n} field`}
        placeholder="field"
        value={condition.field}
        onChange={(e) => onChange({ field: e.target.value })}
      />
      <select
        aria-label={`Condition ${n} operator`}
        value={condition.operator}
        onChange={(e) => onChange({ operator: e.target.value as Operator })}
      >
        {OPERATORS.map((operator) => (
          <option key={operator} value={operator}>
            {OPERATOR_LABELS[operator]}
          </option>
        ))}
      </select>
      <input
        aria-label={`Condition ${n} value`}
        placeholder={isList ? "a, b, c" : "value"}
        value={condition.value}
        onChange={(e) => onChange({ value: e.target.value })}
      />
      <select
        aria-label={`Condition ${n} type`}
        value={condition.type}
        onChange={(e) => onChange({ type: e.target.value as ValueType })}
      >
        <option value="string">text</option>
        <option value="number">number</option>
        <option value="boolean">true/false</option>
      </select>
      <button
        type="button"
        className="danger-ghost small-button"
        onClick={onRemove}
        aria-label={`Remove condition ${n}`}
      >
        Remove
      </button>
      {error ? <p className="field-error condition-error">{error}</p> : null}
    </div>
  );
}
