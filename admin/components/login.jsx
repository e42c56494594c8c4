// The panel's sign-in page: AdminJS's own, with the second factor (TOTP or recovery code).
// One form, one message for every refusal: nothing here tells whether an email exists.
import React from 'react'
import { Box, Button, FormGroup, H2, Input, Label, MessageBox, Text } from '@adminjs/design-system'

const Login = () => {
  const { action, errorMessage } = window.__APP_STATE__ || {}
  return (
    <Box flex variant="grey" style={{ minHeight: '100vh', alignItems: 'center', justifyContent: 'center' }}>
      <Box as="form" action={action} method="POST" bg="white" p="x3" boxShadow="login" width={['100%', '420px']} data-testid="admin-login">
        <H2>Numina admin</H2>
        <Text mb="xl" color="grey60">Sign in with your Numina account. Only administrators can use this panel.</Text>
        {errorMessage && <MessageBox my="lg" message={errorMessage} variant="danger" data-testid="login-error" />}
        <FormGroup>
          <Label required htmlFor="email">Email</Label>
          <Input id="email" name="email" type="email" autoComplete="username" required />
        </FormGroup>
        <FormGroup>
          <Label required htmlFor="password">Password</Label>
          <Input id="password" name="password" type="password" autoComplete="current-password" required />
        </FormGroup>
        <FormGroup>
          <Label htmlFor="code">Two-factor code or recovery code</Label>
          <Input id="code" name="code" autoComplete="one-time-code" inputMode="text" placeholder="Only if two-factor authentication is on" />
        </FormGroup>
        <Text mt="xl" textAlign="center">
          <Button variant="contained" type="submit">Sign in</Button>
        </Text>
      </Box>
    </Box>
  )
}

export default Login
