"""The autograder: isolated, parallel nbgrader grading with hidden tests."""
