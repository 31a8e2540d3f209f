"""Report builders: plain functions of data that write Excel (and later PDF) files."""
