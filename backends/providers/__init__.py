"""Messaging providers: what WhatsApp Business, Twilio-style SMS and e-mail send Vista, and
what Vista sends them, as pure Python.

Each module turns a provider's webhook (or a raw e-mail) into neutral values: an
`InboundMessage` for `Backend.deliver_inbound`, a `DeliveryUpdate` for the outbox,
and builds the provider's send request (`ProviderRequest`) and reads its answer
(`SendResult`). Nothing here opens a socket except `imap`, which polls a mailbox;
the server's webhook routes (console/server/webhooks.py) and the outbox's
connectors do the I/O.
"""
