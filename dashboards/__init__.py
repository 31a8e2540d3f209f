"""The Dash dashboard (Flask server + Dash pages). May use tracker, reports and jobs."""
