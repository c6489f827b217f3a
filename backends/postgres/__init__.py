"""The Backend contract on PostgreSQL, for servers: several `vista serve` processes on one
database. Needs the `postgres` extra (psycopg 3 and psycopg_pool); nothing imports this
package unless a `postgresql://` URL is opened."""
