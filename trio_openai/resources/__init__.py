"""The services of :class:`~trio_openai.Client`, laid out as the API's URL paths.

One module per service, as in the official SDK: ``completions``, ``embeddings``,
``images`` (its multipart edits and variations in ``_image_forms``), ``models``,
``moderations``, ``files``, ``batches``, ``webhooks`` (signature checks, no
requests); a package where a path has sub-services: ``chat/`` (``chat/completions/``
with the messages of a stored completion), ``audio/`` (``speech``,
``transcriptions``, ``translations``), ``responses/`` (with ``input_items``),
``uploads/`` (``parts``), ``vector_stores/`` (``files``, ``file_batches``),
``fine_tuning/`` (``jobs/`` with ``checkpoints``), ``conversations/`` (``items``).
A package's ``__init__`` re-exports its public classes.

Each service turns keyword arguments into a validated request body (every problem
reported at once, nothing sent on error), sends it through the client's request
path (:class:`~trio_openai._client_base.ClientBase`), and decodes the answer into the
area's types. What the services share (body building, per-call options, the
create-or-stream call, ``async with`` stream contexts, binary downloads) is in
``_base`` and ``_binary``; the typed-signature services' helpers (arguments given,
multipart posts, polling) in ``_params``. The client imports each module on first use of its
property, and no service imports the client at run time.
"""
