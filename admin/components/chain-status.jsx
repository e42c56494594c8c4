// The audit log's hash-chain verification, as the audit service reports it.
import React, { useEffect, useState } from 'react'
import { ApiClient } from 'adminjs'
import { Box, H3, Loader, MessageBox, Text } from '@adminjs/design-system'

const api = new ApiClient()

export const ChainResult = ({ chain }) => {
  if (!chain) return null
  if (chain.ok) {
    return <MessageBox variant="success" message={`Chain intact: ${chain.checked} entries checked (verified ${chain.verifiedAt}).`} data-testid="chain-ok" />
  }
  const bad = chain.firstBad || {}
  return (
    <MessageBox variant="danger" message={`Chain BROKEN after ${chain.checked} entries. First bad entry: seq ${bad.seq} (id ${bad.id}): ${bad.reason}.`} data-testid="chain-bad" />
  )
}

const ChainStatus = (props) => {
  const { resource, action } = props
  const [chain, setChain] = useState(null)
  const [error, setError] = useState(null)
  useEffect(() => {
    api
      .resourceAction({ resourceId: resource.id, actionName: action.name })
      .then((r) => setChain(r.data.chain))
      .catch(() => setError('The verification could not run.'))
  }, [])
  return (
    <Box variant="container">
      <H3>Audit chain verification</H3>
      <Text mb="lg">Every entry is linked to the one before it by a SHA-256 hash; an edited, removed or reordered entry breaks the chain.</Text>
      {error && <MessageBox variant="danger" message={error} />}
      {!chain && !error ? <Loader /> : <ChainResult chain={chain} />}
    </Box>
  )
}

export default ChainStatus
