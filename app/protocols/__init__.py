"""The protocols the server speaks: each decodes a request, calls the data plane, encodes."""
