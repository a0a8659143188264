"""Running the agent: assembly from settings, the worker, write-back retry, the model process."""
