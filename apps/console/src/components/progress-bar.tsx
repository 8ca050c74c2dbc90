/** A labelled progress bar (`role=progressbar`); `value` null shows an indeterminate bar. */
export function ProgressBar({
  value,
  label,
  tone = "primary",
}: {
  value: number | null;
  label: string;
  tone?: "primary" | "success" | "danger";
}) {
  const percent = value === null ? null : Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div
      className={`progress progress-${tone}${percent === null ? " indeterminate" : ""}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(percent === null ? {} : { "aria-valuenow": percent })}
    >
      <div className="progress-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
    </div>
  );
}
