"""An offline stand-in for the Azure ML SDK, so that the designer's scripts run unchanged.

Only what scripts in the designer use is here (`azureml.core`); it never reaches a service.
"""
