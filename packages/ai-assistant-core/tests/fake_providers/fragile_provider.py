"""A provider whose handler raises on every streamed token."""

from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import hookimpl


class Fragile(BaseCallbackHandler):
    def on_llm_new_token(self, token, **kwargs):
        raise RuntimeError("token handler broke")


@hookimpl
def ai_assistant_run_handlers():
    return [Fragile()]
