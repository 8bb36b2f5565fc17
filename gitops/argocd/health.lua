-- Argo CD health check for rollback.migrations.dev/MigrationRollback.
-- Install it in argocd-cm under
--   resource.customizations.health.rollback.migrations.dev_MigrationRollback
-- Terminating or still working (including transient waits): Progressing. Waiting for a human's
-- approval: Suspended. Succeeded (or a passed dry run): Healthy. Failed: Degraded.
local hs = {}
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting: the operator restores the application first"
  return hs
end
if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end
local phase = obj.status.phase
local message = obj.status.message or phase
if phase == "Succeeded" then
  hs.status = "Healthy"
elseif phase == "Failed" then
  hs.status = "Degraded"
elseif phase == "AwaitingApproval" then
  hs.status = "Suspended"
else
  hs.status = "Progressing"
end
hs.message = phase .. ": " .. message
return hs
