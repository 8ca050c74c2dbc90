import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="panel">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link to="/tenants">Back to tenants</Link>
    </section>
  );
}
