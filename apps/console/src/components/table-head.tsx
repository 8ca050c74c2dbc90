/** A column read by screen readers only: the row's buttons ("Actions") or its checkbox ("Select"). */
export interface HiddenColumn {
  hidden: string;
}

/**
 * A data table's header row, one `<th scope="col">` per column. Columns that are `false` or
 * `null` are left out, so a column shown only to some users is written inline.
 *
 * @example
 * <TableHead columns={["Name", "Created", canManage && { hidden: "Actions" }]} />
 */
export function TableHead({ columns }: { columns: (string | HiddenColumn | false | null)[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => {
          if (!column) return null;
          if (typeof column === "string") {
            return (
              <th key={column} scope="col">
                {column}
              </th>
            );
          }
          return (
            <th key={column.hidden} scope="col">
              <span className="visually-hidden">{column.hidden}</span>
            </th>
          );
        })}
      </tr>
    </thead>
  );
}
