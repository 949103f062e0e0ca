"""Surveys (опросы): questionnaires, targeted audiences, responses, results and exports."""
