"""Storage: the schema, its migrations, and the engines that apply status changes."""
