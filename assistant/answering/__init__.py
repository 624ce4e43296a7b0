"""Answering: question → passages → a cited answer, or an honest "not in the documents".

``conversation`` cleans the question once and reads it in its conversation; ``search`` retrieves
(the one ``retrieve`` both modes use) and ``answerability`` judges; ``extractive`` quotes,
``generative`` lets a model write (``prompting``) and checks every claim (``grounding``);
``modes`` picks the answerer, ``batch`` serves JSON lines; ``types`` holds what they pass around.
"""
