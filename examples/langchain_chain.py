"""Attach the installed providers to your own LangChain chain.

    python examples/langchain_chain.py "What is the capital of France?"

``run_config()`` returns a ``RunnableConfig`` carrying every active
provider's handlers, metadata and tags, and a fresh run id. The providers
start on first use, from the same config file the CLI reads, and are
flushed when the interpreter exits.
"""

from __future__ import annotations

import os
import sys

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from ai_assistant import run_config
from ai_assistant.models import resolve_model


def main(question: str) -> None:
    model_id, model = resolve_model(os.environ.get("EXAMPLE_MODEL"))
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer in one short sentence."), ("human", "{question}")]
    )
    chain = prompt | model | StrOutputParser()

    config = run_config(run_name="example-chain", user_id="example", model_id=model_id)
    for piece in chain.stream({"question": question}, config=config):
        print(piece, end="", flush=True)
    print(f"\n(run id {config['run_id']})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What is the capital of France?")
