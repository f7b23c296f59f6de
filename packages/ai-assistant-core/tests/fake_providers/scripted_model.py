"""A model provider serving ScriptedChatModel: ``scripted:`` and ``scripted:tools``."""

from langchain_core.messages import AIMessage

from ai_assistant import hookimpl
from ai_assistant.testing import ScriptedChatModel


@hookimpl
def ai_assistant_chat_model(model_name, options):
    if model_name == "tools":
        call = {"name": "calculator", "args": {"expression": "6*7"}, "id": "call-1"}
        return ScriptedChatModel(
            answers=[
                AIMessage(content="Computing.", tool_calls=[call]),
                "The answer is 42.",
            ]
        )
    return ScriptedChatModel(answers=["Paris is the capital of France."])
