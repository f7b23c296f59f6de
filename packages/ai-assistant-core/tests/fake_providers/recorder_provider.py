"""A provider that appends every run's main events to $RECORDER_PATH."""

import json
import os

from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import hookimpl


class Recorder(BaseCallbackHandler):
    def __init__(self, path, run):
        self.path, self.run = path, run

    def _write(self, event, run_id, parent_run_id, **extra):
        record = {
            "event": event,
            "run_id": str(run_id),
            "parent": str(parent_run_id) if parent_run_id else None,
            "root": str(self.run.run_id),
            "user": self.run.user_id,
            **extra,
        }
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kw):
        self._write("chain_start", run_id, parent_run_id, name=kw.get("name"))

    def on_chat_model_start(self, serialized, messages, *, run_id, **kw):
        self._write("chat_model_start", run_id, kw.get("parent_run_id"))

    def on_tool_start(self, serialized, input_str, *, run_id, **kw):
        name = kw.get("name") or serialized.get("name")
        self._write("tool_start", run_id, kw.get("parent_run_id"), name=name)

    def on_llm_end(self, response, *, run_id, parent_run_id=None, **kw):
        usage = response.generations[0][0].message.usage_metadata
        self._write("llm_end", run_id, parent_run_id, usage=dict(usage or {}))


@hookimpl
def ai_assistant_start():
    return os.environ["RECORDER_PATH"]


@hookimpl
def ai_assistant_run_handlers(state, run):
    return [Recorder(state, run)]


def _mark(path, event):
    with open(path, "a") as handle:
        handle.write(json.dumps({"event": event}) + "\n")


@hookimpl
def ai_assistant_flush(state):
    _mark(state, "flush")


@hookimpl
def ai_assistant_shutdown(state):
    _mark(state, "shutdown")
