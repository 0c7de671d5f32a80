"""The services of :class:`~trio_openai.Client`, one module per API area.

Each service turns keyword arguments into a validated request body (every problem
reported at once, nothing sent on error), sends it through the client, and decodes
the answer into the area's types.
"""
