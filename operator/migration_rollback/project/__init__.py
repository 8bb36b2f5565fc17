"""A Supabase-style project on disk: migrations, their rollback files, and what we write."""
