"""Routing, pure Python: the rules file, language and intent of a message, and the choice of
an operator for a contact. No sqlite3, no stores: backends/sqlite reads and writes for it."""
