"""The mock OpenAI server, one module per concern (import from ``trio_openai.testing``).

Layers, lowest first (a module imports only from the ones above it in this list):

- ``_wire``: what an endpoint gets and answers (``Call``, ``Reply``), SSE framing,
  cursor pages, multipart parsing;
- ``_validate``: request checks with OpenAI's error wording (``APIError``), the key
  and body checks;
- ``_fakers``: deterministic content (words, logprobs, JSON for a schema, vectors,
  PNG and WAV files);
- ``_state``: what the endpoints share (ids, stored objects, the nursery);
- ``_choices``: the generated answer shared by chat and Responses; ``_items``: input
  items as stored (Responses, Conversations);
- the endpoints, one module per API area, mirroring the URL paths: ``_chat``
  (``/v1/chat/completions``), ``_completions``, ``_embeddings``, ``_moderations``,
  ``_models``, ``_files``, ``_uploads``, ``_batches``, ``_images``, ``_audio``,
  ``_conversations``, ``_responses`` (which adds to conversations),
  ``_vector_stores``, ``_fine_tuning``;
- ``_params``: the body parameters the API knows per endpoint (strict mode);
- ``_routes``: the route table (method + path pattern -> endpoint function) and the
  strict checks of each route;
- ``_azure``: the Azure OpenAI mode (deployment paths, ``api-version``, Azure's
  credentials and errors), checked before the route table;
- ``_quirks``: the quirks of OpenAI-compatible servers, applied to an answer;
- ``_sending``: paced bodies and the faults that change them;
- ``_server``: the request pipeline, :class:`MockOpenAIServer` and
  :func:`open_mock_server`.

Below all of them: ``trio_openai.testing._records`` (what a request looked like),
which the fault plans (``_faults``) share.
"""
