"""The web chat (Gradio): ``assistant serve``."""
